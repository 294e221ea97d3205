"""PBF controllers, discovered by the application."""

from afiya.api.pbf.documents import PbfDocumentController
from afiya.api.pbf.programmes import PbfProgrammeController
from afiya.api.pbf.results import PbfResultController
from afiya.api.pbf.workflow import PbfWorkflowController

CONTROLLERS = [
    PbfProgrammeController,
    PbfWorkflowController,
    PbfResultController,
    PbfDocumentController,
]
