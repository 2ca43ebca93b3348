from accounts.roles import Role, roles_of


def roles(request):
    codes = roles_of(getattr(request, "user", None))
    return {"user_roles": codes, "Role": Role}
