from django.contrib import admin
from django.http import HttpRequest

from needpool.customers.models import Contact, Customer, Interaction


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Read-mostly in admin: customers are maintained on their pages, where the services apply."""

    list_display = ("code", "name", "industry", "value_tier", "segment", "owner")
    list_filter = ("value_tier", "segment", "industry")
    search_fields = ("code", "name")
    readonly_fields = [f.name for f in Customer._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "customer", "decision_role")
    readonly_fields = [f.name for f in Contact._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("customer", "occurred_at", "channel", "mood", "is_late")
    list_filter = ("channel", "mood", "is_late")
    readonly_fields = [f.name for f in Interaction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
