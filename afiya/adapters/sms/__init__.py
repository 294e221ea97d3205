"""SMS gateways: console (embedded), Africa's Talking and Twilio, and their callbacks."""

from afiya.adapters.sms.africastalking import AfricasTalkingSms
from afiya.adapters.sms.console import ConsoleSms
from afiya.adapters.sms.registry import GatewayRoute, GatewaySelector, SmsGatewayRegistry
from afiya.adapters.sms.twilio import TwilioSms

__all__ = [
    "AfricasTalkingSms",
    "ConsoleSms",
    "GatewayRoute",
    "GatewaySelector",
    "SmsGatewayRegistry",
    "TwilioSms",
]
