"""Pages of the codebook, the coding view, retrieval and memos."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
