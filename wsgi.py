"""The WSGI entry point, and the only caller of create_app().

gunicorn wsgi:app          (production)
flask --app wsgi run       (development)
"""

from monitor import create_app

app = create_app()
