"""Limit/offset paging that keeps the body a plain array, as the reference's list returns."""

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


class HeaderLimitOffsetPagination(LimitOffsetPagination):
    """Pages only when `?limit=` is given; the total and links travel in headers."""

    default_limit = None
    max_limit = 1000
    # Past any real total, and within the databases' 64-bit OFFSET: a larger one is an empty
    # page, not a database error.
    max_offset = 2**62

    def get_offset(self, request):
        return min(super().get_offset(request), self.max_offset)

    def get_paginated_response(self, data):
        return Response(data, headers=self.page_headers())

    def page_headers(self):
        links = []
        if next_url := self.get_next_link():
            links.append(f'<{next_url}>; rel="next"')
        if previous_url := self.get_previous_link():
            links.append(f'<{previous_url}>; rel="prev"')
        headers = {"X-Total-Count": str(self.count)}
        if links:
            headers["Link"] = ", ".join(links)
        return headers

    def get_paginated_response_schema(self, schema):
        return schema
