"""Test settings: the real settings, fed test-friendly environment defaults."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-hs256-signing")
os.environ.setdefault("API_RATE_LIMIT", "off")
os.environ.setdefault("BILLING_SANDBOX", "1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Tasks run where they are enqueued (after the commit); the worker's loop is tested on its own.
os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_URLS", "1")

from config.settings import *  # noqa: F403

# Hashing is deliberately slow in production; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The manifest storage needs `collectstatic` first; tests render admin pages on a fresh checkout.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
