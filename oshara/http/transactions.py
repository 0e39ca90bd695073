"""Requests that run in autocommit instead of ATOMIC_REQUESTS' transaction: a read needs no
transaction (it saves a BEGIN and a COMMIT round trip), and a write that opens its own short
one holds no transaction around the rest of the request."""

from django.db import transaction


def untransacted(view, request, *args, **kwargs):
    """Run `view` in no transaction of its own (a write opens its own, short one)."""
    if not transaction.get_connection().in_atomic_block:
        return view(request, *args, **kwargs)
    # Inside someone else's transaction, a savepoint of our own: DRF's error handling
    # marks the open transaction for rollback, which must be this request's only.
    with transaction.atomic():
        return view(request, *args, **kwargs)


class Untransacted:
    """A DRF view whose requests run as untransacted() does."""

    @classmethod
    def as_view(cls, **initkwargs):
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    def dispatch(self, request, *args, **kwargs):
        return untransacted(super().dispatch, request, *args, **kwargs)
