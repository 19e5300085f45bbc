from django.db import models


class IdempotencyRecord(models.Model):
    """A POST made with an Idempotency-Key, and its answer once it has one.

    `status` is null while the first request runs; a replay answers the stored status,
    content type and body. Rows are kept until `expires_at` (IDEMPOTENCY_TTL_SECONDS),
    in the database so that a replay survives a cache flush.
    """

    caller = models.CharField(max_length=80)  # "user:<id>" or "ip:<address>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path, body
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True, default="")
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "key"], name="uniq_idempotency_caller_key"
            )
        ]
        indexes = [models.Index(fields=["expires_at"], name="idx_idempotency_expiry")]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
