from django.apps import AppConfig


class CodingConfig(AppConfig):
    name = "coding"
    verbose_name = "Codebook, codings and memos"

    def ready(self):
        from . import retention

        retention.connect()
