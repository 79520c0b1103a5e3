"""POST /api/v1/classify/ for agents and integrations."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classification.services import classify_text
from teams.models import Category, Language


class ClassifyOrderSerializer(serializers.Serializer):
    product_category = serializers.SlugField(max_length=40, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class ClassifyRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=settings.INQUIRY_BODY_MAX_LENGTH)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    order = ClassifyOrderSerializer(required=False, allow_null=True, default=None)


class ClassifyResponseSerializer(serializers.Serializer):
    category = serializers.CharField()
    confidence = serializers.FloatField()
    intent = serializers.CharField()
    signals = serializers.ListField(child=serializers.CharField())
    method = serializers.CharField()
    needs_category = serializers.BooleanField()
    model_version = serializers.CharField()


class CanClassify(permissions.BasePermission):
    message = "Only agents, supervisors and storefront integrations may classify."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and (user.has_perm("tickets.work_tickets") or user.has_perm("tickets.submit_inquiries")))


class ClassifyView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanClassify]

    @extend_schema(request=ClassifyRequestSerializer, responses=ClassifyResponseSerializer, summary="Classify a text")
    def post(self, request: Request) -> Response:
        data = ClassifyRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = data.validated_data["order"] or {}
        result = classify_text(
            text=data.validated_data["text"],
            order_category=order.get("product_category", ""),
            order_amount=order.get("amount"),
            known_categories=frozenset(Category.objects.values_list("slug", flat=True)),
        )
        return Response(result.as_dict())
