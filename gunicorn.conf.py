"""gunicorn's settings for this service, read from the working directory (``gunicorn app:app``).

gunicorn answers a request line over 4,094 bytes or a header over 8,190 bytes itself, with an HTML
page, before the app sees it. Raised here so that the app answers such requests with its JSON
envelope (a 404 or 400 for a long URL, 431 for a header over 64 KiB: handlers/web/request_limits.py).
Past these, gunicorn's own page is all a server can send.
"""

# gunicorn's maximum for the request line.
limit_request_line = 8190
# Above the app's own header limit (64 KiB), so the app answers 431 with the envelope.
limit_request_field_size = 80 * 1024
