"""The users pages (administrators): every user, a new one, and one user's groups, leads,
password and whether they may sign in. The same services, rules and messages as the API."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import AppError, InvalidInput
from ..services.people import administration, users
from . import bp
from .common import actor, services


def _errors(exc: InvalidInput) -> dict[str, str]:
    return {d.get("field", ""): d.get("message", "") for d in exc.details}


def _list_page(errors: dict[str, str], status: int = 200):
    current = actor()
    page = render_template(
        "users.html",
        people=users.list_users(services(), current),
        groups=administration.all_groups(services(), current),
        errors=errors,
        typed=request.form,
    )
    return page, status


@bp.get("/users")
def users_page():
    return _list_page({})


@bp.post("/users")
def create_user():
    form = request.form
    try:
        users.create_user(
            services(),
            actor(),
            username=form.get("username", "").strip(),
            password=form.get("password", ""),
            display_name=form.get("display_name", "").strip(),
            groups=form.getlist("group"),
            language=form.get("language", "kk"),
        )
    except InvalidInput as exc:
        flash(_("The form has errors. Correct the marked fields."), "error")
        return _list_page(_errors(exc), 422)
    except AppError as exc:
        flash(exc.message, "error")
        return _list_page({}, 409)
    flash(_("The user is created."), "success")
    return redirect(url_for("web.user_page", username=form.get("username", "").strip()))


@bp.get("/users/<username>")
def user_page(username: str):
    detail = administration.user_detail(services(), actor(), username)
    return render_template("user.html", person=detail, errors={})


@bp.post("/users/<username>/groups")
def user_groups(username: str):
    try:
        administration.set_memberships(
            services(), actor(), username, request.form.getlist("group"), request.form.getlist("lead")
        )
        flash(_("The groups are saved."), "success")
    except AppError as exc:
        flash(exc.message, "error")
    return redirect(url_for("web.user_page", username=username))


@bp.post("/users/<username>/password")
def user_password(username: str):
    try:
        administration.set_password(services(), actor(), username, request.form.get("password", ""))
        flash(_("The new password is set."), "success")
    except InvalidInput as exc:
        detail = administration.user_detail(services(), actor(), username)
        flash(_("The form has errors. Correct the marked fields."), "error")
        return render_template("user.html", person=detail, errors=_errors(exc)), 422
    return redirect(url_for("web.user_page", username=username))


@bp.post("/users/<username>/active")
def user_active(username: str):
    active = request.form.get("active") == "1"
    result = administration.set_active(services(), actor(), username, active)
    if active:
        flash(_("The user may sign in again."), "success")
    else:
        flash(
            _(
                "The user can no longer sign in. %(released)s claimed tasks went back to their groups; "
                "%(reserved)s reserved ballots are listed on the incidents page.",
                released=len(result["released"]),
                reserved=len(result["reserved"]),
            ),
            "success",
        )
    return redirect(url_for("web.user_page", username=username))
