from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = "Projects, participants and interviews"

    def ready(self):
        from . import retention

        retention.connect()
