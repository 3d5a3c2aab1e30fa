"""`zhunong rotate-id-keys`: re-encrypt hosts' ID numbers under the newest key and recompute their digests."""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError

from zhunong.core.errors import DomainError
from zhunong.live import realname


class Command(BaseCommand):
    help = (
        "Hosts' resident ID numbers are stored encrypted under ZHUNONG_ID_KEYS (Fernet keys, newest first) with "
        "a keyed digest under ZHUNONG_ID_HASH_KEY that keeps one number to one person. To rotate a key: put the "
        "new key first in ZHUNONG_ID_KEYS (keep the old one after it) and/or set a new ZHUNONG_ID_HASH_KEY, run "
        "this command, then remove the old key. It re-encrypts every number under the first key and recomputes "
        "every digest, all or nothing: a number that no configured key opens stops it before anything changes. "
        "--dry-run counts what would change (docs/deploy.md \"ID number keys\")."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--dry-run", action="store_true", help="check every number opens and count, write nothing")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        try:
            counts = realname.rotate_keys(dry_run=options["dry_run"])
        except InvalidToken:
            raise CommandError("An ID number cannot be decrypted with ZHUNONG_ID_KEYS: keep the old key in the list "
                               "(after the new one) until this command has run. Nothing was changed.")
        except DomainError as exc:
            raise CommandError(str(exc.message))
        verb = "Would re-encrypt" if options["dry_run"] else "Re-encrypted"
        self.stdout.write(f"{verb} {counts['re_encrypted']} ID number(s); {counts['digests_changed']} digest(s) "
                          f"{'would change' if options['dry_run'] else 'changed'}.")
