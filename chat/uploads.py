"""An upload handler that keeps the example image in memory only (never a temporary file on
disk) and stops keeping bytes past the size limit, so an oversized upload costs no memory."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

CHAT_IMAGE_MAX_BYTES = 5 * 1024 * 1024  # CONTRACT section 2: "image (file, up to 5 MB)"


class MemoryOnlyUploadHandler(FileUploadHandler):
    def __init__(self, request: Any = None, *, max_bytes: int = CHAT_IMAGE_MAX_BYTES) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.oversized_fields: set[str] = set()
        self.buffer = BytesIO()

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.buffer = BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.max_bytes:
            self.oversized_fields.add(self.field_name)
            self.buffer = BytesIO()
            raise SkipFile  # Django drops this file and reads past the rest of it
        self.buffer.write(raw_data)
        return None  # consumed: no other handler (and no disk) ever sees the bytes

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
