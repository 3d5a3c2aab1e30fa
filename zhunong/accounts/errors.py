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
