"""One Settings object for the whole deployment: LABLOOP_* environment variables, optional labloop.toml."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

SECRET_FIELDS = {"llm_api_key", "alert_webhook_url"}


def _toml_path() -> Path:
    return Path(os.environ.get("LABLOOP_CONFIG", "labloop.toml"))


class Settings(BaseSettings):
    """Deployment settings. Every field is read from `LABLOOP_<FIELD>` or from `labloop.toml`."""

    model_config = SettingsConfigDict(env_prefix="LABLOOP_", extra="ignore")

    data_dir: Path = Field(Path("labloop-data"), description="Where the SQLite file, frames, notes and models live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file in data_dir. PostgreSQL: postgresql+psycopg://user@host/db"
    )
    auto_migrate: bool = Field(True, description="Upgrade the database schema automatically when a command opens it.")
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (vLLM).")
    llm_api_key: SecretStr | None = Field(None, description="API key for the endpoint (any string for vLLM/Ollama).")
    llm_model: str | None = Field(None, description="Text model name served by the endpoint.")
    vision_model: str | None = Field(None, description="Vision model name; defaults to llm_model.")
    llm_timeout_s: float = Field(60.0, description="Timeout of one LLM request in seconds.")
    llm_max_retries: int = Field(2, description="Retries of a failed or invalid LLM answer before it is recorded as failed.")
    alert_webhook_url: SecretStr | None = Field(None, description="Optional URL that receives observer alerts as JSON POSTs.")
    base_model: Path | None = Field(
        None, description="Local Hugging Face causal-LM directory that `labloop retrain` continues pretraining."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_toml_path()))

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return sqlite_url(self.data_dir / "labloop.db")

    @property
    def frames_dir(self) -> Path:
        return self.data_dir / "frames"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def promoted_link(self) -> Path:
        """Symlink to the promoted model's directory: what `vllm serve` in the compose stack serves."""
        return self.models_dir / "promoted"

    @property
    def effective_vision_model(self) -> str | None:
        return self.vision_model or self.llm_model

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    def masked(self) -> dict[str, Any]:
        """Effective settings as plain values, secrets and URL passwords masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in SECRET_FIELDS:
                value = "****" if value else None
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        out["database_url"] = _mask_url_password(self.effective_database_url)
        return out


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file, escaped so that '?', '#' or '%' in the path survive parsing."""
    from sqlalchemy.engine import URL

    return URL.create("sqlite", database=str(Path(path).resolve())).render_as_string()


def _mask_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.render_as_string(hide_password=True) if parsed.password else url


@lru_cache
def get_settings() -> Settings:
    return Settings()
