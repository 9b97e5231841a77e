"""The leak plugin on realistic suites: a Flask app's test client, SQLAlchemy on SQLite,
numpy and pandas, pydantic models, logging, warnings and regexes. Every mini suite runs in
a fresh interpreter with ``--heapscope-leaks``: its clean tests pass and its one leaking
test fails with the leaked kind and the container that holds it. A suite whose library
is not installed is skipped (``scripts/test`` installs them all)."""

from __future__ import annotations

import importlib.util
import re

import pytest

pytest_plugins = ["pytester"]

ROUNDS = "4"


def require(*modules: str) -> None:
    """Skips the test when a library is not installed. Like ``pytest.importorskip``
    without importing it here: the suites run in subprocesses, and pandas & co. in this
    process would make every later test's heap several times larger."""
    for name in modules:
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed")


def run_suite(pytester: pytest.Pytester, name: str, source: str, passed: int) -> str:
    """Runs one mini suite under the plugin; returns the leaking test's failure text."""
    pytester.makepyfile(**{name: source})
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--heapscope-leaks", "--heapscope-rounds", ROUNDS, timeout=600
    )
    result.assert_outcomes(passed=passed, failed=1)
    text = result.stdout.str()
    start = text.index("_ test_leaky")
    end = text.find("\n____", start + 1)
    return text[start : end if end != -1 else len(text)]


def assert_explained(text: str, kind: str, container: str) -> None:
    """The kind grew by one per round and a path names the container."""
    assert "LeakError: heapscope: test_leaky" in text, text
    assert re.search(rf"\n\s+1\s+\d+\s+{kind}\n", text), text
    paths = [ln.strip() for ln in text.splitlines() if "kept alive by: " in ln]
    assert any(container in p for p in paths), paths


FLASK_SUITE = '''
import flask
import pytest

app = flask.Flask(__name__)
app.secret_key = "test"
_SEEN = []


class RequestRecord:
    def __init__(self, path, headers):
        self.path = path
        self.headers = headers


@app.route("/hello/<name>")
def hello(name):
    return flask.jsonify(greeting=f"hello {name}")


@app.route("/template/<name>")
def template(name):
    return flask.render_template_string("<p>{{ name|upper }}</p>", name=name)


@app.route("/leaky")
def leaky():
    _SEEN.append(RequestRecord(flask.request.path, dict(flask.request.headers)))
    return "ok"


@app.route("/boom")
def boom():
    raise RuntimeError("handled by flask: a 500, logged with its traceback")


@pytest.fixture
def client():
    return app.test_client()


def test_json(client):
    assert client.get("/hello/ada").get_json() == {"greeting": "hello ada"}


def test_template(client):
    assert client.get("/template/ada").data == b"<p>ADA</p>"


def test_not_found_and_error(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/boom").status_code == 500


def test_session(client):
    with client.session_transaction() as session:
        session["user"] = "ada"
    assert client.get("/hello/x").status_code == 200


def test_leaky(client):
    assert client.get("/leaky").status_code == 200
'''


def test_flask_test_client(pytester: pytest.Pytester) -> None:
    require("flask")
    text = run_suite(pytester, "test_flask_app", FLASK_SUITE, passed=4)
    assert_explained(text, r"test_flask_app\.RequestRecord", "['test_flask_app'].__dict__['_SEEN'][")


SQLALCHEMY_SUITE = '''
from sqlalchemy import ForeignKey, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    posts: Mapped[list["Post"]] = relationship(back_populates="author")


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User] = relationship(back_populates="posts")


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
_AUDIT = []


def test_insert_and_query():
    with Session(engine) as session:
        session.add(User(name="ada", posts=[Post(title="t")]))
        session.commit()
        assert session.scalars(select(User).where(User.name == "ada")).first() is not None


def test_join():
    with Session(engine) as session:
        rows = session.execute(select(User.name, Post.title).join(Post.author)).all()
        assert isinstance(rows, list)


def test_rollback():
    with Session(engine) as session:
        session.add(User(name="bob"))
        session.rollback()


def test_leaky_audit_log():
    with Session(engine) as session:
        session.scalars(select(User)).first()
        _AUDIT.append(User(name="copy"))
'''


def test_sqlalchemy_on_sqlite(pytester: pytest.Pytester) -> None:
    # each query makes a sqlite3 cursor: the connection keeps a weak reference to it in
    # a list it purges every 200 cursors (a bounded stdlib list, not a leak)
    require("sqlalchemy")
    text = run_suite(pytester, "test_sqla", SQLALCHEMY_SUITE, passed=3)
    assert_explained(text, r"test_sqla\.User", "['test_sqla'].__dict__['_AUDIT'][")


PANDAS_SUITE = '''
import numpy as np
import pandas as pd

_RESULTS = []


def test_numpy_math():
    a = np.arange(1000, dtype=np.float64)
    assert float((a * 2).sum()) == 999000.0


def test_groupby():
    df = pd.DataFrame({"k": ["a", "b", "a", "c"] * 50, "v": range(200)})
    assert df.groupby("k")["v"].sum()["a"] > 0


def test_merge_and_format():
    left = pd.DataFrame({"k": [1, 2, 3], "a": [1.0, 2.0, 3.0]})
    right = pd.DataFrame({"k": [1, 2, 4], "b": ["x", "y", "z"]})
    assert "NaN" in left.merge(right, on="k", how="outer").to_string()


def test_dates():
    s = pd.Series(pd.date_range("2024-01-01", periods=30, freq="D"))
    assert s.dt.day_name().iloc[0] == "Monday"


def test_leaky_results():
    _RESULTS.append(pd.DataFrame({"v": np.ones(10)}).describe())
'''


def test_numpy_and_pandas(pytester: pytest.Pytester) -> None:
    require("numpy", "pandas")
    text = run_suite(pytester, "test_frames", PANDAS_SUITE, passed=4)
    assert_explained(text, r"pandas(\.core\.frame)?\.DataFrame", "['test_frames'].__dict__['_RESULTS'][")


PYDANTIC_SUITE = '''
import pydantic
import pytest


class Address(pydantic.BaseModel):
    city: str
    zip: str


class Person(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)
    address: Address


class Registry:
    people = []


def test_validate():
    p = Person.model_validate({"name": "ada", "age": 36, "address": {"city": "x", "zip": "1"}})
    assert p.address.city == "x"


def test_invalid():
    with pytest.raises(pydantic.ValidationError):
        Person.model_validate({"name": "ada", "age": -1, "address": {"city": "x", "zip": "1"}})


def test_dump():
    assert Person(name="ada", age=1, address=Address(city="c", zip="z")).model_dump_json()


def test_leaky_registry():
    Registry.people.append(Person(name="ada", age=1, address=Address(city="c", zip="z")))
'''


def test_pydantic_models(pytester: pytest.Pytester) -> None:
    require("pydantic")
    text = run_suite(pytester, "test_models", PYDANTIC_SUITE, passed=3)
    assert_explained(text, r"test_models\.Person", ".__dict__['Registry'].__dict__['people'][")


STDLIB_SUITE = '''
import itertools
import json
import logging
import re
import warnings

import pytest

log = logging.getLogger("app.noise")
_n = itertools.count()


def test_logging(caplog):
    log.warning("warning %d", 1)
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("boom")
    assert "boom" in caplog.text


def test_warnings():
    warnings.warn("old api", DeprecationWarning)
    warnings.warn(f"unique message {next(_n)}", UserWarning)


def test_expected_warning():
    with pytest.warns(UserWarning):
        warnings.warn("expected", UserWarning)


def test_regexes_and_json():
    assert re.compile(rf"item-{next(_n)}-(\\\\d+)").match("x") is None
    assert json.loads(json.dumps({"a": [1, 2]})) == {"a": [1, 2]}


def test_leaky_handler():
    log.addHandler(logging.NullHandler())
'''


def test_logging_warnings_and_regexes(pytester: pytest.Pytester) -> None:
    text = run_suite(pytester, "test_stdlib", STDLIB_SUITE, passed=4)
    # 3.11+: `.handlers[i]` on the logger; 3.10: `.__dict__['handlers'][i]`
    assert_explained(text, r"logging\.NullHandler", "['test_stdlib'].__dict__['log']")
    assert "handlers" in text and "WarningMessage" not in text, text
