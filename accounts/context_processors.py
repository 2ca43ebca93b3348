from accounts.matrix import MayOpen
from accounts.roles import Role, roles_of


def roles(request):
    user = getattr(request, "user", None)
    # `may_open`: the navigation shows a link only where the permission matrix lets one in.
    return {"user_roles": roles_of(user), "Role": Role, "may_open": MayOpen(user)}
