from __future__ import annotations

from django.apps import AppConfig


class FiltersConfig(AppConfig):
    name = "filters"
    verbose_name = "Users and filters"

    def ready(self) -> None:
        # Imported here, once the models are loaded (Django's rule for ready): both reach them,
        # diymod.throttling through DRF's settings, which load our authentication class.
        from diymod.throttling import throttle_user_identity_register
        from filters.authentication import throttle_user_identity

        throttle_user_identity_register(throttle_user_identity)
