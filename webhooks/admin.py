from django.contrib import admin

from .models import WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "url", "state", "created_at")
    list_filter = ("state",)
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    exclude = ("secret",)  # never shown after its creation


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "subscription",
        "event_id",
        "state",
        "attempts",
        "last_status",
    )
    list_filter = ("state",)
    raw_id_fields = ("subscription",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
