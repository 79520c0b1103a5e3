"""Domain errors the API and the console turn into answers, so neither needs to know the app that raised them."""


class ConflictError(Exception):
    """A request that cannot be carried out in the current state: the API answers 409 with its message."""
