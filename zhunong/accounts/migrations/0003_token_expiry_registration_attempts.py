import datetime

from django.conf import settings
from django.db import migrations, models
from django.db.models import F

import zhunong.accounts.models


def set_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    ApiToken.objects.update(expires_at=F("created_at") + datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS))


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(set_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(default=zhunong.accounts.models.default_token_expiry),
        ),
        migrations.CreateModel(
            name="RegistrationAttempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.CharField(max_length=45)),
                ("at", models.DateTimeField(db_index=True)),
            ],
            options={
                "indexes": [models.Index(fields=["address", "at"], name="accounts_re_address_e814f2_idx")],
            },
        ),
    ]
