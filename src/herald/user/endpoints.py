from __future__ import annotations

from fastapi import APIRouter

from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.user import service
from herald.user.schemas import UserOut, UserUpdate

router = APIRouter(tags=["user"])


@router.get("/api/user/")
async def get_profile(user: CurrentUser) -> Success[UserOut]:
    return Success(message="User profile", data=UserOut.model_validate(user))


@router.put("/api/user/")
async def update_profile(
    change: UserUpdate, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[UserOut]:
    await service.update_profile(user, change, runtime.clock.now())
    await session.commit()
    return Success(message="User profile updated", data=UserOut.model_validate(user))
