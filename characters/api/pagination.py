"""Limit/offset paging that keeps the body a plain array, as the reference's list returns."""

from django.db.models import Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

# The response headers a paged list sends (for a view's extend_schema parameters).
PAGE_HEADERS = [
    OpenApiParameter(
        "X-Total-Count",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description="Total number of matching items; sent when `limit` is given.",
    ),
    OpenApiParameter(
        "Link",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description='Links to the next and previous pages (`rel="next"`, `rel="prev"`), '
        "when `limit` is given and there are more.",
    ),
]


class HeaderLimitOffsetPagination(LimitOffsetPagination):
    """Pages only when `?limit=` is given; the total and links travel in headers.

    DRF ignores a `limit` or `offset` it cannot parse (and so silently stops paging); here
    it is a 400 naming the parameter.
    """

    default_limit = None
    max_limit = 1000
    # Past any real total, and within the databases' 64-bit OFFSET: a larger one is an empty
    # page, not a database error.
    max_offset = 2**62

    def paginate_queryset(self, queryset, request, view=None):
        self.get_offset(request)  # a bad offset is a 400 even where no limit asks for a page
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request):
        if self.limit_query_param not in request.query_params:
            return self.default_limit
        return min(self._parameter(request, self.limit_query_param, minimum=1), self.max_limit)

    def get_offset(self, request):
        if self.offset_query_param not in request.query_params:
            return 0
        return min(self._parameter(request, self.offset_query_param, minimum=0), self.max_offset)

    @staticmethod
    def _parameter(request, name, minimum):
        value = request.query_params[name]
        if not (value.isascii() and value.isdigit()):
            raise ValidationError({name: [f"Must be an integer of at least {minimum}."]})
        digits = value.lstrip("0") or "0"
        # Past 18 digits it is above every bound here; int() of 4,301 digits would raise.
        number = int(digits) if len(digits) <= 18 else 10**18
        if number < minimum:
            raise ValidationError({name: [f"Must be an integer of at least {minimum}."]})
        return number

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

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1 if parameter["name"] == "limit" else 0
            if parameter["name"] == "limit":
                parameter["schema"]["maximum"] = self.max_limit
        return parameters


class AnchoredLimitOffsetPagination(HeaderLimitOffsetPagination):
    """Limit/offset paging, the page found from an anchor: for a queryset ordered by
    `-anchor_field` (unique within it, gaps allowed), a page at offset `o` is the rows at or
    below the `o`-th value of that field, read by an index-only scan of (filter, field) in
    the same statement, so a deep page reads its `limit` rows and not the `o` rows above it
    (docs/versions.md). What a client sends and gets is exactly the plain paging's."""

    # The total (X-Total-Count) is a COUNT of the same index: an index-only scan too.

    anchor_field = "number"

    def paginate_queryset(self, queryset, request, view=None):
        self.get_offset(request)  # a bad offset is a 400 even where no limit asks for a page
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True  # the browsable API's
        if self.count == 0 or self.offset >= self.count:
            return []
        return list(self.page(queryset, self.offset, self.limit, self.count))

    @classmethod
    def page(cls, queryset, offset, limit, count):
        """The page's queryset (one statement); bench/prepare.py explains it. The anchor is
        walked to from the nearer end of the index: a page at offset `o` of `count` walks
        min(o, count - o) entries, the last page as few as the first."""
        field = cls.anchor_field
        if offset:
            from_end = count - 1 - offset
            if from_end < offset:
                values = queryset.order_by(field).values(field)[from_end : from_end + 1]
            else:
                values = queryset.order_by(f"-{field}").values(field)[offset : offset + 1]
            queryset = queryset.filter(**{f"{field}__lte": Subquery(values)})
        return queryset[:limit]
