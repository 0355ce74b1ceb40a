from django.contrib import admin

from .models import TokenGrant


@admin.register(TokenGrant)
class TokenGrantAdmin(admin.ModelAdmin):
    """How tokens were issued: read only (tokens are issued through /api/auth/token/)."""

    list_display = ["user", "second_factor", "issued_at"]  # never the key
    list_filter = ["second_factor"]
    fields = ["second_factor", "issued_at"]
    readonly_fields = fields

    @admin.display(description="user")
    def user(self, grant):
        return grant.token.user

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("token__user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
