"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..errors import Unauthorized
from ..services.people import users
from . import bp
from .common import back, safe_next, services
from .i18n import LANGUAGES


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.get("actor") is not None:
            return redirect(url_for("web.inbox"))
        return render_template("login.html", next=request.args.get("next", ""), username="")
    username = request.form.get("username", "").strip()
    try:
        actor = users.authenticate(services(), username, request.form.get("password", ""))
    except Unauthorized:
        error = _("Wrong username or password.")
        page = render_template(
            "login.html", next=request.form.get("next", ""), username=username, error=error
        )
        return page, 401
    chosen = session.get("language") if session.get("language_chosen") else None
    session.clear()  # a new session on sign-in: no fixation
    session.permanent = True
    session["user"] = actor.username
    if chosen in LANGUAGES and chosen != actor.language:  # picked on the sign-in page: keep it
        users.set_language(services(), actor, chosen)
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    language = g.actor.language if g.get("actor") else None
    session.clear()
    if language:
        session["language"] = language
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.login"))


@bp.post("/language")
def set_language():
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session["language"] = language
        if g.get("actor") is not None:
            users.set_language(services(), g.actor, language)
        else:
            session["language_chosen"] = True
    return back()


@bp.get("/")
def index():
    return redirect(url_for("web.inbox"))
