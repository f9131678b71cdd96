from typing import Any

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """Refuses any field it does not declare as writable, naming it: money, roles and ownership are never
    silently ignored (DRF's default), so a client learns at once that it may not set them."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data.keys()) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["This field cannot be set."] for name in unknown})
        return super().to_internal_value(data)


class StrictModelSerializer(StrictInputSerializer, serializers.ModelSerializer):
    pass


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The validated input, or the 400 envelope through DRF's ValidationError."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
