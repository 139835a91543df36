from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..base import Base, intpk, json_value, str64, str255


class ProcessModel(Base):
    """A named process; its content lives in immutable versions."""

    __tablename__ = "process_models"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str255]
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]

    versions: Mapped[list[ProcessVersion]] = relationship(
        back_populates="model", order_by="ProcessVersion.version"
    )


class ProcessVersion(Base):
    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[intpk]
    model_id: Mapped[str] = mapped_column(ForeignKey("process_models.id"), index=True)
    version: Mapped[int]
    content_hash: Mapped[str64]
    # Large, and read once per version into the specs cache: not loaded with the row.
    specs_json: Mapped[str] = mapped_column(Text, deferred=True)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    in_force_from: Mapped[date | None] = mapped_column(Date)
    in_force_to: Mapped[date | None] = mapped_column(Date)
    metadata_json: Mapped[json_value] = mapped_column(default=dict)
    start_messages: Mapped[json_value] = mapped_column(default=list)
    lanes: Mapped[json_value] = mapped_column(default=list)
    deployed_by: Mapped[str64]
    deployed_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")  # why it was deployed, in the deployer's words

    model: Mapped[ProcessModel] = relationship(back_populates="versions")
    files: Mapped[list[ProcessFile]] = relationship(
        back_populates="version", order_by="ProcessFile.name", cascade="all, delete-orphan"
    )


class ProcessFile(Base):
    __tablename__ = "process_files"
    __table_args__ = (UniqueConstraint("version_id", "name"),)

    id: Mapped[intpk]
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str255]
    content: Mapped[bytes] = mapped_column(LargeBinary)

    version: Mapped[ProcessVersion] = relationship(back_populates="files")

    def text(self) -> str:
        return self.content.decode("utf-8")

    def as_json(self) -> Any:
        import json

        return json.loads(self.content)


class ModelDraft(Base):
    """An analyst's unsaved work on a model in the editor: all its files, as last saved, and the
    version it started from (a deploy from an older one is refused). One per analyst and model;
    a new model's draft has the id the analyst gave it."""

    __tablename__ = "model_drafts"
    __table_args__ = (UniqueConstraint("model_id", "username"),)

    id: Mapped[intpk]
    model_id: Mapped[str] = mapped_column(String(128), index=True)
    username: Mapped[str64]
    base_version: Mapped[int | None]
    files: Mapped[json_value] = mapped_column(default=dict)  # name -> text
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
