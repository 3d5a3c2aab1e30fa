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
