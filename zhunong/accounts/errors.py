from zhunong.core.errors import Conflict, DomainError, ValidationFailed


class BadCredentials(DomainError):
    code = "bad_credentials"
    status = 401
    message = "Wrong username or password."


class UsernameTaken(Conflict):
    code = "username_taken"
    message = "This username is taken."


class WeakPassword(ValidationFailed):
    code = "weak_password"
    message = "The password is too weak."


class TooManyAttempts(DomainError):
    """Sign-in locked out for a while, or too many registrations from one address (accounts/throttle.py)."""

    code = "too_many_attempts"
    status = 429
    message = "Too many attempts. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs) -> None:  # noqa: ANN003
        self.retry_after = retry_after
        super().__init__(message or f"Too many attempts. Try again in {retry_after} seconds.",
                         details={"retry_after": retry_after}, **kwargs)


# Resident ID numbers (accounts/idnumber.py: GB 11643-1999 and the rules written there).


class IdNumberMalformed(ValidationFailed):
    code = "id_number_malformed"
    message = "A resident ID number has 18 characters: 17 digits, then a digit or X."


class IdNumberChecksum(ValidationFailed):
    code = "id_number_checksum"
    message = "The ID number's check character is wrong (GB 11643-1999, ISO 7064 MOD 11-2): check for a typo."


class IdNumberBirthDate(ValidationFailed):
    code = "id_number_birth_date"
    message = "The ID number's birth date (characters 7-14) is not a real date between 1900 and today."


class IdNumberRegion(ValidationFailed):
    code = "id_number_region"
    message = "The ID number's region code (first 6 digits) is not a mainland province's code."


class IdKeysMissing(DomainError):
    code = "id_keys_missing"
    status = 503
    message = "ID numbers cannot be stored: ZHUNONG_ID_KEYS and ZHUNONG_ID_HASH_KEY are not configured."


class AccountDeletionBlocked(DomainError):
    """Orders still under way need the buyer's address and contact: the account is deleted once they end."""

    code = "account_deletion_blocked"
    status = 409
    message = "Some of your orders are still under way; the account can be deleted once they are completed."


class StaffAccountNotDeletable(DomainError):
    code = "staff_account_not_deletable"
    status = 409
    message = "Staff and host accounts are closed by the platform's administrators, not deleted by their owner."


class WrongPassword(DomainError):
    code = "wrong_password"
    status = 403
    message = "The password is not right."
