"""The HTTP servers the app runs under (Werkzeug's for `flask run`, gunicorn in production)
send no `Server` header: it told every caller which server and Python version to attack."""

from __future__ import annotations


def hide_server_header() -> None:
    """Drop the `Server` header of both servers (idempotent; called by `create_app`, so it is
    in force in every gunicorn worker, which loads the app after the fork)."""
    from werkzeug.serving import WSGIRequestHandler

    if not getattr(WSGIRequestHandler, "_ppp_no_server_header", False):
        send_header = WSGIRequestHandler.send_header

        def quiet_send_header(self, keyword, value):
            if keyword.lower() != "server":
                send_header(self, keyword, value)

        WSGIRequestHandler.send_header = quiet_send_header
        WSGIRequestHandler._ppp_no_server_header = True
    try:
        from gunicorn.http.wsgi import Response
    except ImportError:  # gunicorn is not installed (a laptop without the production extras)
        return
    if not getattr(Response, "_ppp_no_server_header", False):
        default_headers = Response.default_headers

        def quiet_default_headers(self):
            return [h for h in default_headers(self) if not h.lower().startswith("server:")]

        Response.default_headers = quiet_default_headers
        Response._ppp_no_server_header = True
