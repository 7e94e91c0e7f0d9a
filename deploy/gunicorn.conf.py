"""gunicorn settings for the web processes: `gunicorn -c deploy/gunicorn.conf.py 'bot.wsgi:create_app()'`.

The web processes only verify, store and acknowledge callbacks (WeCom waits 5 seconds) and serve the dashboard;
`python -m bot worker` handles the messages. Override any setting on the command line, e.g. `--workers 8`.
"""

# Behind nginx (or another proxy) on this machine; the proxy terminates HTTPS.
bind = "127.0.0.1:8000"
# A district: 2-4; a city: about 2 x cores. Each process holds its own database connection pool.
workers = 4
# Threads per process: a slow dashboard page (the progress CSV) does not hold up callbacks.
worker_class = "gthread"
threads = 4
# A request that takes longer is cut off; WeCom gives up after 5 s, a dashboard CSV may take a few.
timeout = 60
# SIGTERM: finish the requests in flight, then exit 0.
graceful_timeout = 20
# nginx on this machine may tell the client's scheme (https) with X-Forwarded-Proto.
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
errorlog = "-"
# gunicorn's control interface is not used; left on, two gunicorns of one user would share ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True


def on_starting(server):
    """Migrate the database once in the master, before the workers start (they would otherwise race to do it)."""
    from bot.wsgi import prepare  # imported here: gunicorn puts the working directory on sys.path after this file

    prepare()
