"""Path parameters, each with what it names, for the OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter

ForumPath = Annotated[str, PathParameter(description="the forum's id, as POST /forums or /forums/import answered it")]
DelegationPath = Annotated[str, PathParameter(description="a delegation's id in the forum (e.g. SG)")]
ParticipantPath = Annotated[str, PathParameter(description="a participant's id in its delegation (e.g. sg-min)")]
RequestPath = Annotated[str, PathParameter(description="a meeting request's id (also the meeting's id in a grid)")]
RunPath = Annotated[int, PathParameter(description="the run's number in the forum (1, 2, 3 ...)")]
VersionPath = Annotated[int, PathParameter(description="a schedule version's number in the forum (1, 2, 3 ...)")]
OtherVersionPath = Annotated[int, PathParameter(description="the version to compare with")]
WebhookPath = Annotated[int, PathParameter(description="the webhook's number in the delegation (1, 2, 3 ...)")]
ItemPath = Annotated[str, PathParameter(description="the item's id in the forum")]
FeedPath = Annotated[str, PathParameter(description="the secret key of the calendar link, with its .ics suffix")]
ImportKindPath = Annotated[str, PathParameter(description="what the file lists: delegations, participants or requests")]
