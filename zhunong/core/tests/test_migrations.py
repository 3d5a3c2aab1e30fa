"""Models and migrations agree: a model change without its migration fails here, not on a deployment."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    # --check exits with status 1 when makemigrations would write something.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
