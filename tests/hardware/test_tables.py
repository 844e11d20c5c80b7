import pytest

from hardware.motors.motor_errors import UnknownModelError, UnknownRegisterError, ValueRangeError
from hardware.motors.tables import MODELS, baud_value, get_model, model_name


def test_design_addresses_match_the_e_manual():
    xl330 = get_model("xl330-m288")
    expected = {"Model_Number": (0, 2), "ID": (7, 1), "Baud_Rate": (8, 1), "Return_Delay_Time": (9, 1),
                "Drive_Mode": (10, 1), "Operating_Mode": (11, 1), "Homing_Offset": (20, 4),
                "Current_Limit": (38, 2), "Max_Position_Limit": (48, 4), "Min_Position_Limit": (52, 4),
                "Shutdown": (63, 1), "Torque_Enable": (64, 1), "Hardware_Error_Status": (70, 1),
                "Position_P_Gain": (84, 2), "Goal_Current": (102, 2), "Goal_Position": (116, 4),
                "Present_Current": (126, 2), "Present_Position": (132, 4), "Present_Temperature": (146, 1)}
    for name, (address, size) in expected.items():
        reg = xl330.register(name)
        assert (reg.address, reg.size) == (address, size), name


def test_models_differ_where_the_hardware_differs():
    assert {m.number for m in MODELS.values()} == {1190, 1200, 1060}
    xl430 = get_model("XL430-W250")
    assert xl430.register("Present_Load").address == 126
    with pytest.raises(UnknownRegisterError, match="Current_Limit.*xl430-w250"):
        xl430.register("Current_Limit")
    assert baud_value(4_500_000, xl430) == 7
    with pytest.raises(ValueRangeError, match="4500000.*xl330-m077"):
        baud_value(4_500_000, get_model("xl330-m077"))
    assert model_name(1060) == "xl430-w250" and "unknown" in model_name(9999)


def test_signed_round_trip_and_range_check():
    reg = get_model("xl330-m288").register("Homing_Offset")
    for v in (-1_044_479, -1, 0, 1, 1_044_479):
        assert reg.decode(reg.encode(v)) == v
    with pytest.raises(ValueRangeError, match="Homing_Offset: 2000000 is outside"):
        reg.check(2_000_000)
    torque = get_model("xl330-m288").register("Torque_Enable")
    with pytest.raises(ValueRangeError, match="Torque_Enable: 2"):
        torque.check(2)
    with pytest.raises(ValueRangeError, match="not an integer"):
        torque.check(0.5)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(UnknownModelError, match="'xm999'.*xl330-m077"):
        get_model("xm999")
