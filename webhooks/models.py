from django.conf import settings
from django.db import models


class SubscriptionState(models.TextChoices):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookSubscription(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
    )
    url = models.URLField(max_length=2000)
    # Shown once, when the subscription is made; never listed, never logged.
    secret = models.CharField(max_length=60)
    # Empty lists match everything.
    types = models.JSONField(default=list, blank=True)
    pairs = models.JSONField(default=list, blank=True)
    timeframes = models.JSONField(default=list, blank=True)
    min_confidence = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    state = models.CharField(
        max_length=8,
        choices=SubscriptionState.choices,
        default=SubscriptionState.ENABLED,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state"], name="idx_webhook_state")]

    def __str__(self) -> str:
        return f"webhook {self.pk} of {self.owner_id} → {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription: the same webhook-id on every attempt."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.BigIntegerField()
    event_type = models.CharField(max_length=32)
    # The exact bytes sent (the event JSON), so every attempt signs the same body.
    body = models.TextField()
    # The event's cause: the request id (sent as X-Request-ID) and trace it continues.
    request_id = models.CharField(max_length=128, blank=True, default="")
    trace_parent = models.CharField(max_length=128, blank=True, default="")
    state = models.CharField(
        max_length=9, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="uniq_delivery_sub_event"
            )
        ]
        indexes = [
            # The sweep: pending deliveries that are due.
            models.Index(fields=["state", "next_attempt_at"], name="idx_delivery_due"),
            models.Index(fields=["subscription", "-id"], name="idx_delivery_sub"),
        ]

    def __str__(self) -> str:
        return f"delivery of event {self.event_id} to webhook {self.subscription_id}"


class DispatchCursor(models.Model):
    """How far through the event log deliveries have been made (one row)."""

    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"dispatched through event {self.last_event_id}"
