from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def wallboard(request):
    return render(request, "dashboard/wallboard.html")
