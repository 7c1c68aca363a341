from __future__ import annotations

from django.apps import AppConfig

from diymod.observability import collector_register


class ImagingConfig(AppConfig):
    name = "imaging"

    def ready(self) -> None:
        from imaging.metrics import ImageJobCollector  # reads models: not before the app is ready

        collector_register(ImageJobCollector())
