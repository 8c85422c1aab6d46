"""Discovery runs and the review queue of findings."""

from flask.views import MethodView

from discovery import findings as service

from . import api_blueprint
from ..auth import require
from .discovery_schemas import (AcceptIn, BulkIn, BulkOut, FindingFilter, FindingOut, FindingPage, IgnoreIn, LinkIn,
                                ObservationFilter, ObservationPage, RunDetail, RunFilter, RunPage, finding_dict,
                                observation_dict, run_detail, run_dict)

blp = api_blueprint("discovery", __name__, "discovery", "Discovery runs and findings (the review queue)")


def _may_write(school_code: str) -> None:
    """The guard the service calls for every school an action touches."""
    require("write", school_code)


def _page(result, as_dict) -> dict:
    return {"count": result.count, "page": result.page, "per_page": result.per_page,
            "results": [as_dict(row) for row in result.results]}


@blp.route("/runs")
class Runs(MethodView):
    @blp.arguments(RunFilter, location="query", as_kwargs=True)
    @blp.response(200, RunPage)
    def get(self, **filters):
        """Discovery runs, newest first; filter by school, status and trigger; `sort` takes field or -field."""
        require("read")
        return _page(service.list_runs(**filters), run_dict)


@blp.route("/runs/<int:run_id>")
class RunById(MethodView):
    @blp.response(200, RunDetail)
    def get(self, run_id):
        """One run with its counts, per-host errors, duration and how its findings stand."""
        require("read")
        return run_detail(service.get_run(run_id), service.run_findings(run_id))


@blp.route("/runs/<int:run_id>/observations")
class RunObservations(MethodView):
    @blp.arguments(ObservationFilter, location="query", as_kwargs=True)
    @blp.response(200, ObservationPage)
    def get(self, run_id, **filters):
        """What the run saw, record by record."""
        require("read")
        return _page(service.list_observations(run_id, **filters), observation_dict)


@blp.route("/findings")
class Findings(MethodView):
    @blp.arguments(FindingFilter, location="query", as_kwargs=True)
    @blp.response(200, FindingPage)
    def get(self, **filters):
        """The review queue: open findings unless `status` says otherwise; newest first."""
        require("read")
        return _page(service.list_findings(**filters), finding_dict)


@blp.route("/findings/<int:finding_id>")
class FindingById(MethodView):
    @blp.response(200, FindingOut)
    def get(self, finding_id):
        """One finding."""
        require("read")
        return finding_dict(service.get_finding(finding_id))


@blp.route("/findings/<int:finding_id>/accept")
class Accept(MethodView):
    @blp.arguments(AcceptIn)
    @blp.response(200, FindingOut)
    def post(self, data, finding_id):
        """new: create the device; moved: move it; missing: mark it missing; changed: set it active. Not conflict."""
        require("write")
        return finding_dict(service.accept(finding_id, data.get("room"), guard=_may_write))


@blp.route("/findings/<int:finding_id>/ignore")
class Ignore(MethodView):
    @blp.arguments(IgnoreIn)
    @blp.response(200, FindingOut)
    def post(self, data, finding_id):
        """Ignore the finding; later runs do not raise it again."""
        require("write")
        return finding_dict(service.ignore(finding_id, data.get("note"), guard=_may_write))


@blp.route("/findings/<int:finding_id>/link")
class Link(MethodView):
    @blp.arguments(LinkIn)
    @blp.response(200, FindingOut)
    def post(self, data, finding_id):
        """The host is this existing device: it gains the seen universal MAC (and serial, if it had none)."""
        require("write")
        return finding_dict(service.link(finding_id, data["device"], guard=_may_write))


@blp.route("/findings/<int:finding_id>/reopen")
class Reopen(MethodView):
    @blp.response(200, FindingOut)
    def post(self, finding_id):
        """Undo an ignore."""
        require("write")
        return finding_dict(service.reopen(finding_id, guard=_may_write))


@blp.route("/findings/bulk")
class Bulk(MethodView):
    @blp.arguments(BulkIn)
    @blp.response(200, BulkOut)
    def post(self, data):
        """One action over many findings: all succeed, or nothing changes and `fields.ids` names every refusal."""
        require("write")
        action, ids = data.pop("action"), data.pop("ids")
        done = service.bulk(action, ids, guard=_may_write, **data)
        return {"action": action, "count": len(done), "results": [finding_dict(f) for f in done]}
