"""The JSON Schemas of the API's models, as the OpenAPI document embeds them: one component
per model, referred to by name."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import CoreSchema

from bot.http import response_models as answers
from bot.http.request_models import FeedbackRequest, ask_request
from retrieval.settings import Settings

REF = "#/components/schemas/"


class _Stated(GenerateJsonSchema):
    """JSON Schema without the titles and defaults pydantic adds: what is checked, described."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def model_schema(self, schema: CoreSchema) -> JsonSchemaValue:
        stated = super().model_schema(schema)  # type: ignore[arg-type]
        stated.pop("title", None)
        return stated


def component_schemas(settings: Settings) -> dict[str, Any]:
    """Every model's schema and those they hold, under their class names."""
    models: list[type[BaseModel]] = [
        ask_request(settings),
        FeedbackRequest,
        answers.Answer,
        answers.FeedbackRecorded,
        answers.Problem,
        answers.Health,
        answers.Ready,
    ]
    _, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template=REF + "{model}", schema_generator=_Stated
    )
    return defs["$defs"]
