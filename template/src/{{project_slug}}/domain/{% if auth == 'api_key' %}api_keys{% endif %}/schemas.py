"""What the API answers about API keys."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ApiKeyRead(BaseModel):
    """An API key as the API shows it: never the key itself."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
