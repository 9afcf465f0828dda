"""The WSGI entry point: gunicorn wsgi:app, flask --app wsgi …"""

from ppp_tracker import create_app

app = create_app()
