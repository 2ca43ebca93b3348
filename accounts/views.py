from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.roles import home_url_for


@login_required
def home(request):
    """Send each role to where it works."""
    return redirect(home_url_for(request.user))


@login_required
def no_role(request):
    return render(request, "accounts/no_role.html")
