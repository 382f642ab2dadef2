"""Patients: create, find, search and edit; de-identified views for readers who may not see identity."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from ecgstation.storage.access import Permission, require
from ecgstation.storage.column_types import utcnow
from ecgstation.storage.errors import ConflictError, NotFoundError
from ecgstation.storage.orm import PatientRow
from ecgstation.storage.repos.base import Repository
from ecgstation.storage.views import PatientView

__all__ = ["PatientRepository", "age_in_years", "body_mass_index"]

_SEXES = ("M", "F", "O", "U")
_EDITABLE = ("family_name", "given_name", "sex", "birth_date", "height_cm", "weight_kg", "phone", "email", "address")
#: De-identified ages are capped here (HIPAA Safe Harbor groups ages over 89).
_DEIDENTIFIED_AGE_CAP = 90


def body_mass_index(height_cm: float | None, weight_kg: float | None) -> float | None:
    """BMI in kg/m² from height (cm) and weight (kg), rounded to 0.1; None when either is missing."""
    if not height_cm or not weight_kg or height_cm <= 0 or weight_kg <= 0:
        return None
    return round(weight_kg / (height_cm / 100.0) ** 2, 1)


def age_in_years(birth_date: date | None, on: date | None = None) -> int | None:
    """Completed years of age on ``on`` (default today)."""
    if birth_date is None:
        return None
    on = on or utcnow().date()
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def _validate(fields: dict[str, Any]) -> None:
    sex = fields.get("sex")
    if sex is not None and sex not in _SEXES:
        raise ValueError(f"sex must be one of {', '.join(_SEXES)}, not {sex!r}")
    for key, low, high in (("height_cm", 20.0, 280.0), ("weight_kg", 0.3, 650.0)):
        value = fields.get(key)
        if value is not None and not (low <= float(value) <= high):
            raise ValueError(f"{key.replace('_', ' ')} {value} is outside {low:g}-{high:g}")
    birth = fields.get("birth_date")
    if birth is not None and birth > utcnow().date():
        raise ValueError(f"birth date {birth} is in the future")


class PatientRepository(Repository):
    """Patients. Students (no READ_IDENTIFYING) get de-identified views and cannot search by name or MRN."""

    def _view(self, row: PatientRow) -> PatientView:
        age = age_in_years(row.birth_date)
        bmi = body_mass_index(row.height_cm, row.weight_kg)
        if self.actor.can(Permission.READ_IDENTIFYING):
            return PatientView(
                id=row.id, mrn=row.mrn, family_name=row.family_name, given_name=row.given_name, sex=row.sex,
                birth_date=row.birth_date, age_years=age, height_cm=row.height_cm, weight_kg=row.weight_kg,
                bmi=bmi, phone=row.phone, email=row.email, address=row.address, version=row.version,
                deidentified=False,
            )  # fmt: skip
        return PatientView(
            id=row.id, mrn=None, family_name=None, given_name=None, sex=row.sex, birth_date=None,
            age_years=None if age is None else min(age, _DEIDENTIFIED_AGE_CAP), height_cm=row.height_cm,
            weight_kg=row.weight_kg, bmi=bmi, phone=None, email=None, address=None, version=row.version,
            deidentified=True,
        )  # fmt: skip

    def create(self, mrn: str, **fields: Any) -> PatientView:
        """A new patient with a unique MRN; fields: family_name, given_name, sex, birth_date, height_cm, ..."""
        require(self.actor, Permission.EDIT_PATIENTS)
        mrn = mrn.strip()
        if not mrn:
            raise ValueError("a patient needs a medical record number (MRN)")
        unknown = set(fields) - set(_EDITABLE)
        if unknown:
            raise TypeError(f"unknown patient fields: {', '.join(sorted(unknown))}")
        _validate(fields)
        if self.session.scalar(select(PatientRow.id).where(PatientRow.mrn == mrn)) is not None:
            raise ConflictError(f"A patient with MRN {mrn} already exists.")
        row = PatientRow(mrn=mrn, **{k: v for k, v in fields.items() if v is not None})
        self.session.add(row)
        self.session.flush()
        self.audit.record("create", "patient", row.id)
        return self._view(row)

    def get(self, patient_id: int) -> PatientView:
        """One patient by id (audited as a view)."""
        require(self.actor, Permission.READ_CLINICAL)
        row = self._get(PatientRow, patient_id, "Patient")
        self.audit.record("view", "patient", row.id)
        return self._view(row)

    def by_mrn(self, mrn: str) -> PatientView | None:
        """The patient with this MRN, or None (identified readers only)."""
        require(self.actor, Permission.READ_IDENTIFYING)
        row = self.session.scalar(select(PatientRow).where(PatientRow.mrn == mrn.strip()))
        return None if row is None else self._view(row)

    def search(self, text: str = "", limit: int = 200) -> list[PatientView]:
        """Patients whose MRN or name contains ``text`` (case-insensitive), by family name.

        De-identified readers may only list (``text`` empty); they get views without identity.
        """
        require(self.actor, Permission.READ_CLINICAL)
        q = select(PatientRow).order_by(
            PatientRow.family_name.is_(None), PatientRow.family_name, PatientRow.given_name, PatientRow.id
        ).limit(limit)
        text = text.strip()
        if text:
            require(self.actor, Permission.READ_IDENTIFYING)
            # % and _ in what the user typed are letters, not LIKE wildcards.
            escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            q = q.where(
                or_(
                    func.lower(PatientRow.mrn).like(pattern, escape="\\"),
                    func.lower(PatientRow.family_name).like(pattern, escape="\\"),
                    func.lower(PatientRow.given_name).like(pattern, escape="\\"),
                )
            )
        return [self._view(r) for r in self.session.scalars(q)]

    def update(self, patient_id: int, expected_version: int, **fields: Any) -> PatientView:
        """Change patient fields; refused if someone else changed the patient since ``expected_version``."""
        require(self.actor, Permission.EDIT_PATIENTS)
        unknown = set(fields) - set(_EDITABLE)
        if unknown:
            raise TypeError(f"unknown patient fields: {', '.join(sorted(unknown))}")
        _validate(fields)
        row = self._get(PatientRow, patient_id, "Patient")
        self._check_version(row, expected_version, f"Patient {row.mrn}")
        changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
        for key, value in changed.items():
            setattr(row, key, value)
        self.session.flush()
        if changed:
            self.audit.record("update", "patient", row.id, fields=sorted(changed))
        return self._view(row)

    def require_id(self, mrn: str) -> int:
        """The id of the patient with this MRN; NotFoundError naming the MRN when there is none."""
        view = self.by_mrn(mrn)
        if view is None:
            raise NotFoundError(f"No patient with MRN {mrn} is stored; create the patient first.")
        return view.id
