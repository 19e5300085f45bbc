from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class ReadAnyoneWriteStaffOrPermitted(BasePermission):
    """Reads are public; POST needs staff or add_<model>, PATCH change_<model>."""

    actions = {"POST": "add", "PATCH": "change", "PUT": "change", "DELETE": "delete"}

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_staff:
            return True
        meta = view.get_queryset().model._meta
        action = self.actions.get(request.method or "", "change")
        return user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}")
