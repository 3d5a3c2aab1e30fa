"""Settings for the end-to-end run: the real settings, with a fast password hasher.

The demo seeds ~35 logins; with Django's default PBKDF2 (a deliberately slow hash) that alone takes half a
minute on the 2-core CI machine. MD5 is what the unit suite uses too (conftest.py); never in production.
"""

from zhunong.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
