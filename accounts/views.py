from django.shortcuts import redirect, render

from accounts.matrix import page
from accounts.roles import home_url_for


@page("home")
def home(request):
    """Send each role to where it works."""
    return redirect(home_url_for(request.user))


@page("accounts:no_role")
def no_role(request):
    return render(request, "accounts/no_role.html")
