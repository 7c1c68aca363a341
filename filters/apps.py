from __future__ import annotations

from django.apps import AppConfig


class FiltersConfig(AppConfig):
    name = "filters"
    verbose_name = "Users and filters"
