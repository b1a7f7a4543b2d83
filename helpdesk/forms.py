"""How forms render their fields."""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class FormRenderer(Jinja2):
    """Widgets are rendered by Jinja2 from the widget templates Django ships for it (the same HTML), several times
    faster than through Django's template engine, which renders a select's every option through three templates.
    A widget whose templates exist only for Django's engine (the admin's, django-filter's) is rendered by it."""

    fallback = DjangoTemplates()

    def get_template(self, template_name: str) -> Any:
        try:
            return super().get_template(template_name)
        except TemplateDoesNotExist:
            return self.fallback.get_template(template_name)
