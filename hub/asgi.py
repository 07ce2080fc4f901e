"""ASGI entry point for a production server: ``uvicorn --factory hub.asgi:create``.
Settings come from the environment (see hub/settings.py)."""

from __future__ import annotations

from fastapi import FastAPI

from hub.app import create_app
from hub.settings import Settings


def create() -> FastAPI:
    return create_app(Settings())
