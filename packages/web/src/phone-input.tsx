/** A phone number field: the phone keypad on mobiles, an E.164 example as placeholder. */
export function PhoneInput(props: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  /** "tel" for the user's own number (the browser may fill it in), "off" for someone else's. */
  autocomplete: 'tel' | 'off';
}) {
  return (
    <input
      id={props.id}
      name={props.id}
      type="tel"
      autocomplete={props.autocomplete}
      inputmode="tel"
      placeholder="+14155550123"
      required
      value={props.value}
      onInput={(e) => props.onChange(e.currentTarget.value)}
    />
  );
}

/** Several phone numbers in one field, separated by commas (see splitPhones). */
export function PhonesInput(props: { id: string; value: string; onChange: (value: string) => void }) {
  return (
    <input
      id={props.id}
      name={props.id}
      type="tel"
      inputmode="tel"
      autocomplete="off"
      placeholder="+14155550123, +447700900123"
      required
      value={props.value}
      onInput={(e) => props.onChange(e.currentTarget.value)}
    />
  );
}
