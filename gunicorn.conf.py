"""gunicorn's settings for the web app: production (deploy/ppp-tracker-web.service) and the web
benchmarks (bench/serving.py) both serve with this file, so that what is measured is what runs.

Each worker process (`--workers`, WEB_WORKERS in production) runs 4 threads: a request waiting on
PostgreSQL or Redis does not hold its process's core idle, and a slow page (a claim letter's PDF)
does not stop the process's other requests. glibc would give each thread a malloc arena of its
own; MALLOC_ARENA_MAX=2 in the environment (deploy/ppp-tracker.env) keeps a process to two.
Figures: docs/performance.md, "Load" and "Memory".
"""

worker_class = "gthread"
threads = 4
