"""The shapes every request body of the routers shares: a strict input model (unknown fields are
refused with their name, text is stripped) and the bounded text types people type in."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Ident = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
