"""What the API answers about API keys."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ApiKeyRead(BaseModel):
    """An API key as the API shows it: never the key itself."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"id": 1, "name": "billing service", "created_at": "2027-01-31T09:15:00Z"}]},
    )

    id: int
    name: str
    created_at: datetime
